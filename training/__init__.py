"""Training side of the sketch-recognition app: data, rasterizer, models, training.

Run `python -m training.train --help` or `python -m training.download --help`.
"""
