"""biaslens.audit"""
