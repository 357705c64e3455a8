# syntax=docker/dockerfile:1
# A GPU worker image: NVIDIA's CUDA runtime (with cuDNN) on Ubuntu, Python 3 in a virtual environment, and the
# static studio binary as the ENTRYPOINT.
#
#   docker build -f docker/examples/cuda.Dockerfile -t my-registry/studio-worker-gpu .
#   docker run --rm --gpus all my-registry/studio-worker-gpu remote-worker --queue gpu_queue
#   studio start-remote-worker gpu_queue --image my-registry/studio-worker-gpu     (adds --gpus all itself)

ARG STUDIO_IMAGE=studioml/studio:latest
ARG CUDA_IMAGE=nvidia/cuda:12.6.3-cudnn-runtime-ubuntu24.04
FROM ${STUDIO_IMAGE} AS studio

FROM ${CUDA_IMAGE}
# Ubuntu 24.04 marks the system Python as externally managed (PEP 668), so `pip install` outside a virtual
# environment fails; the worker installs experiment packages with pip, so give it a venv first on PATH.
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        python3 python3-venv ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && python3 -m venv /opt/venv \
    && /opt/venv/bin/pip install --no-cache-dir --upgrade pip
ENV PATH=/opt/venv/bin:$PATH
# RUN pip install --no-cache-dir torch --index-url https://download.pytorch.org/whl/cu126
COPY --from=studio /studio /studio
STOPSIGNAL SIGTERM
# Exec form: /studio is PID 1. CMD is the default command line; `docker run IMAGE remote-worker --queue q`
# and Kubernetes `args:` replace it.
ENTRYPOINT ["/studio"]
CMD ["remote-worker", "--queue", "gpu_queue"]
