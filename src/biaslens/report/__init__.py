"""biaslens.report"""
