"""A tiny StudioML experiment: fits y = a*x + b by gradient descent, with no dependencies.

It shows what a worker gives an experiment: its arguments exactly as typed, live output,
a model directory ($STUDIOML_HOME/experiments/<key>/modeldir) that is saved as the `modeldir`
artifact at every checkpoint, and the experiment key in STUDIOML_EXPERIMENT.
"""
import json
import os
import sys
import time

def main(argv):
    epochs = int(argv[0]) if argv else 5
    key = os.environ.get("STUDIOML_EXPERIMENT", "local")
    home = os.environ.get("STUDIOML_HOME", os.path.expanduser("~/.studioml"))
    modeldir = os.path.join(home, "experiments", key, "modeldir")
    os.makedirs(modeldir, exist_ok=True)

    data = [(x / 10.0, 3.0 * x / 10.0 + 1.0) for x in range(50)]
    a, b, rate = 0.0, 0.0, 0.05
    for epoch in range(1, epochs + 1):
        for _ in range(200):
            grad_a = sum(2 * (a * x + b - y) * x for x, y in data) / len(data)
            grad_b = sum(2 * (a * x + b - y) for x, y in data) / len(data)
            a, b = a - rate * grad_a, b - rate * grad_b
        loss = sum((a * x + b - y) ** 2 for x, y in data) / len(data)
        print(f"epoch {epoch}/{epochs}: a={a:.4f} b={b:.4f} loss={loss:.6f}", flush=True)
        time.sleep(0.1)

    with open(os.path.join(modeldir, "model.json"), "w") as f:
        json.dump({"a": a, "b": b, "loss": loss}, f)
    print(f"saved {modeldir}/model.json")
    return 0 if loss < 0.01 else 1

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
