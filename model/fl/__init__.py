"""Mechanistic federated learning: the numerical building blocks of a real FL task, in numpy.

The task is multinomial logistic regression (softmax regression) on scikit-learn's bundled 8x8
handwritten digits, or on synthetic Gaussian classes. Every array is float64 and every random
draw comes from a ``numpy.random.Generator`` the caller passes in.

- ``data``: the datasets (``load_digits_dataset``, ``synthetic_dataset``), the split into a global
  test set, validators' held-out sets and trainers' local data (IID or non-IID by a Dirichlet
  deal over labels: ``split_dataset``), and ``Shards``, every party's data padded into one array
  so one numpy pass serves all parties.
- ``learner``: the model (``logits``), local mini-batch SGD vectorised over parties
  (``local_sgd``) and the scoring of many models on many evaluation sets in one pass
  (``evaluate``: accuracy and mean cross-entropy).
- ``aggregators``: the server's aggregation rules over an (n x d) array of updates: FedAvg,
  coordinate-wise median and trimmed mean, Krum and Multi-Krum, FoolsGold; ``AGGREGATORS`` maps
  their names to them.
- ``attacks``: what cheating submissions are, as pure functions of arrays: label flipping, sign
  flipping, boosting, the free riders' fake updates and Sybil identities' near copies.

The glue into the network (which party submits what, which validator scores what) lives in
``model.fl.task``; this subpackage's other modules know nothing of the token economy.
"""
