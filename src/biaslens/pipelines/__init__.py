"""Use cases: one function per job the CLI, the app and the report share.

Each module resolves its inputs (:mod:`biaslens.pipelines.inputs`: a model for a role,
a cache or the default world), runs the pure compute of ``audit/``, ``train/`` or
``mitigate/``, and returns result objects; rendering is left to ``report/``, ``cli/``
and ``app/``.
"""
