"""biaslens.train"""
