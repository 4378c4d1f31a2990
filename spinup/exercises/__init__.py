"""Exercises that grade themselves.

Each exercise is a Python file with gaps marked ``YOUR CODE HERE``. Copy it, fill it in, and check
it with ``spinup exercise 1.1 --file my_exercise1_1.py`` (or ``python -m spinup.exercises``).
``spinup exercise --list`` lists the exercises; :mod:`spinup.exercises.checkers` holds the checks.
"""
