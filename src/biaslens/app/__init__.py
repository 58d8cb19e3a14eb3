"""biaslens.app"""
