"""Helpers for the adaptive-optimization course notebooks.

Shared modules (what several lessons use; changing ``plotting`` or ``widgets`` re-renders every
notebook): ``optimizers``, ``quadratic``, ``data``, ``models``, ``training``, ``plotting``,
``widgets``, ``checkers``, ``paths``, ``cli``, ``runs``, ``stats``.

Lesson modules, named after their notebook (``nbNN_topic``): ``nb00_environment``, ``nb00_decay``,
``nb01_quadratic``, ``nb01_features``, ``nb01_exercises``, ``nb02_adagrad``, ``nb02_demos``,
``nb02_panels``, ``nb02_exercises``, ``nb03_ema``,
``nb03_exercises``, ``nb04_adam``, ``nb04_zero_grad``, ``nb04_race``, ``nb04_exercises``, ``nb05_adamw``,
``nb05_exercises``, ``nb06_theory``, ``nb06_problem``, ``nb06_figures``, ``nb06_theory_panel``,
``nb06_sgd``, ``nb06_exercises``, ``nb07_experiment``,
``nb07_stats``, ``nb07_timing``, ``nb07_figures``, ``nb08_weight_decay``, ``nb08_stats``,
``nb08_figures``, ``nb08_cli``, ``nb08_exercises``, ``nb08_rerun``, ``nb09_trials``, ``nb09_study``,
``nb09_budget``, ``nb09_inclusion``, ``nb09_timing``, ``nb09_figures``, ``nb09_panel``,
``nb09_exercises``, ``nb10_sign``, ``nb10_norms``, ``nb10_muon``,
``nb10_fashion``, ``nb10_exercises``.

Rules (tests/test_layering.py): shared modules never import lesson modules; a lesson imports
shared modules and its own or earlier lessons; private names stay inside one lesson. Each
algorithm is written once, in ``optimizers``. README.md's Layout section is the full map.
"""

__version__ = "0.1.0"
