"""The layers a model builder takes, with the recurrent ones fused.

Embedding and Bidirectional are Keras' own; SimpleRNN, LSTM, GRU and
OneHotSimpleRNN run their time loops as fused kernels (rnn_layers.py).
"""

from keras.layers import Bidirectional, Embedding

from .rnn_layers import GRU, LSTM, OneHotSimpleRNN, SimpleRNN

__all__ = ["Bidirectional", "Embedding", "GRU", "LSTM", "OneHotSimpleRNN", "SimpleRNN"]
