"""biaslens.world"""
