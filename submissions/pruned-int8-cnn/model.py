"""The entry's model.py: load() rebuilds the model from the shipped weights alone (tinytorch.rebuild).

Optimize with the kit (prune, prune.shrink, fuse_modules, quantize_dynamic int8/int4, distill into a narrower
student), then save the result over the weights file of this folder:

    tt.save(model.state_dict(), "submissions/<you>/mnist_cnn.npz")

and load() rebuilds whatever kit form it holds (docs/students.md, "Your model.py").
"""

import numpy as np

import tinytorch as tt
from tinytorch.rebuild import load_model

# Which weights file serves which event (named after the reference model).
EVENT_MODELS = {'cnn_marathon_offline': 'mnist_cnn', 'memory_master_offline': 'mnist_cnn'}


def load(event: str):
    """The model saved in this folder for `event`, rebuilt from its weights, in eval mode."""
    return load_model(EVENT_MODELS[event] + ".npz")


def predict(model, inputs: np.ndarray) -> np.ndarray:
    """(N, C, H, W) float32 images -> (N, classes) logits."""
    with tt.no_grad():
        return model(tt.from_numpy(inputs)).numpy()
