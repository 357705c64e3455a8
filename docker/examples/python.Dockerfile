# syntax=docker/dockerfile:1
# A Python worker image: python:3.12-slim plus the static studio binary. This is the image
# `studio start-remote-worker` runs by default (studioml/studio-worker:latest).
#
#   docker build -f docker/Dockerfile -t studioml/studio .
#   docker build -f docker/examples/python.Dockerfile -t studioml/studio-worker:latest .
#   docker run --rm -e STUDIO_QUEUE=my_queue \
#       -e GOOGLE_APPLICATION_CREDENTIALS=/creds/key.json -v "$PWD/key.json:/creds/key.json:ro" \
#       studioml/studio-worker:latest

# COPY --from cannot expand build arguments, so name the studio image as a stage first.
ARG STUDIO_IMAGE=studioml/studio:latest
FROM ${STUDIO_IMAGE} AS studio

FROM python:3.12-slim
# Python, pip and CA certificates (for the HTTPS calls to Pub/Sub, SQS, S3, GCS) come with the base image.
# Preinstall what your experiments import, so the worker's `--pip missing` finds it already there:
# RUN pip install --no-cache-dir numpy torch
COPY --from=studio /studio /studio
COPY --from=studio /entrypoint.sh /entrypoint.sh
# entrypoint.sh turns STUDIO_QUEUE, STUDIO_SINGLE_RUN, ... into flags and execs /studio, which stays PID 1;
# arguments given to `docker run` pass straight to /studio (e.g. `remote-worker --queue q --single-run`).
STOPSIGNAL SIGTERM
ENTRYPOINT ["/entrypoint.sh"]
