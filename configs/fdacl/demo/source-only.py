# Source only: cross-entropy on the game-like source, evaluated on the target.
_base_ = './_base_demo.py'
