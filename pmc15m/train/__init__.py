"""The companion CLIP trainer: it reads only the shard format (``<split>/NNNNN.tar`` with
``<key>.jpg|webp``, ``<key>.txt``, ``<key>.json`` and ``sizes.json``), never the builder.

Modules: ``transforms`` (image pre-processing without torchvision), ``tokenize`` (captions to
token ids), ``data`` (the webdataset streaming loader), ``model`` (the ViT + BERT dual
encoder), ``loss`` (contrastive loss across ranks), ``distributed`` (torchrun set-up),
``optim`` (AdamW groups and the schedule), ``options`` (the command's options),
``checkpoint``, ``config`` (``TrainConfig``),
``train`` (the loop), ``evaluate`` (retrieval and zero-shot), ``export`` (a Hugging Face model
folder), ``throughput`` (samples/s, memory and MFU of the training step) and ``cli``.
Nothing here imports Beam; torch is imported by the modules that need it, never by this one,
so ``pmc15m --help`` stays fast.
"""
