"""biaslens.mitigate"""
