"""biaslens.models"""
