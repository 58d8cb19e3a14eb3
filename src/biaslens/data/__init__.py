"""biaslens.data"""
