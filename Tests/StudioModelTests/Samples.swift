import XCTest

/// Copies of /work/shared/samples (a real StudioML 0.0.49 message and config), embedded so the tests
/// run anywhere; `SamplesTests` checks them against the shared files when those exist.
enum Samples {
    static let sharedDirectory = "/work/shared/samples"

    /// studio-message.json (without its final newline).
    static let message = #"""
{
  "experiment": {
    "key": "1795900279_aa0f8d0c-3d28-4046-830c-84bdbea056e5",
    "args": [
      "arg1",
      "arg2"
    ],
    "filename": "hello.py",
    "pythonenv": [
      "boto3==1.44.8",
      "botocore==1.44.8",
      "numpy==2.4.6",
      "pip==26.3",
      "PyYAML==6.0.4",
      "requests==2.34.2",
      "setuptools==65.5.0",
      "studioml==0.0.49",
      "urllib3==1.26.20"
    ],
    "project": null,
    "pythonver": "3.11",
    "resources_needed": {
      "gpus": 0,
      "cpus": 1,
      "ram": "1g",
      "hdd": "1g"
    },
    "status": "waiting",
    "time_added": 1795900279.7312746,
    "time_started": null,
    "time_last_checkpoint": 1795900279.793286,
    "time_finished": null,
    "info": {},
    "git": null,
    "metric": null,
    "max_duration": null,
    "owner": "guest",
    "from_compl_service": false,
    "artifacts": {
      "workspace": {
        "unpack": true,
        "mutable": false,
        "key": "blobstore/3df8b8dc4bee6b90d7e03f6309f7d5342e1a6931d068827a3c56781d1d6fff64.tar",
        "local": "/home/user/myproject",
        "qualified": "s3://127.0.0.1:5125/studioml-artifacts/blobstore/3df8b8dc4bee6b90d7e03f6309f7d5342e1a6931d068827a3c56781d1d6fff64.tar",
        "bucket": "studioml-artifacts",
        "credentials": {
          "aws": {
            "access_key": "testing",
            "secret_access_key": "testing"
          }
        }
      },
      "modeldir": {
        "unpack": true,
        "mutable": true,
        "key": "experiments/1795900279_aa0f8d0c-3d28-4046-830c-84bdbea056e5/modeldir.tar",
        "local": "/home/user/.studioml/experiments/1795900279_aa0f8d0c-3d28-4046-830c-84bdbea056e5/modeldir",
        "qualified": "s3://127.0.0.1:5125/studioml-artifacts/experiments/1795900279_aa0f8d0c-3d28-4046-830c-84bdbea056e5/modeldir.tar",
        "bucket": "studioml-artifacts",
        "credentials": {
          "aws": {
            "access_key": "testing",
            "secret_access_key": "testing"
          }
        }
      },
      "retval": {
        "unpack": true,
        "mutable": true,
        "key": "experiments/1795900279_aa0f8d0c-3d28-4046-830c-84bdbea056e5/retval.tar",
        "local": "/home/user/.studioml/experiments/1795900279_aa0f8d0c-3d28-4046-830c-84bdbea056e5/retval",
        "qualified": "s3://127.0.0.1:5125/studioml-artifacts/experiments/1795900279_aa0f8d0c-3d28-4046-830c-84bdbea056e5/retval.tar",
        "bucket": "studioml-artifacts",
        "credentials": {
          "aws": {
            "access_key": "testing",
            "secret_access_key": "testing"
          }
        }
      },
      "output": {
        "unpack": true,
        "mutable": true,
        "key": "experiments/1795900279_aa0f8d0c-3d28-4046-830c-84bdbea056e5/output.tar",
        "local": "/home/user/.studioml/experiments/1795900279_aa0f8d0c-3d28-4046-830c-84bdbea056e5/output",
        "qualified": "s3://127.0.0.1:5125/studioml-artifacts/experiments/1795900279_aa0f8d0c-3d28-4046-830c-84bdbea056e5/output.tar",
        "bucket": "studioml-artifacts",
        "credentials": {
          "aws": {
            "access_key": "testing",
            "secret_access_key": "testing"
          }
        }
      },
      "tb": {
        "unpack": true,
        "mutable": true,
        "key": "experiments/1795900279_aa0f8d0c-3d28-4046-830c-84bdbea056e5/tb.tar",
        "local": "/home/user/.studioml/experiments/1795900279_aa0f8d0c-3d28-4046-830c-84bdbea056e5/tb",
        "qualified": "s3://127.0.0.1:5125/studioml-artifacts/experiments/1795900279_aa0f8d0c-3d28-4046-830c-84bdbea056e5/tb.tar",
        "bucket": "studioml-artifacts",
        "credentials": {
          "aws": {
            "access_key": "testing",
            "secret_access_key": "testing"
          }
        }
      },
      "_metrics": {
        "unpack": true,
        "mutable": true,
        "key": "experiments/1795900279_aa0f8d0c-3d28-4046-830c-84bdbea056e5/_metrics.tar",
        "local": "/home/user/.studioml/experiments/1795900279_aa0f8d0c-3d28-4046-830c-84bdbea056e5/_metrics",
        "qualified": "s3://127.0.0.1:5125/studioml-artifacts/experiments/1795900279_aa0f8d0c-3d28-4046-830c-84bdbea056e5/_metrics.tar",
        "bucket": "studioml-artifacts",
        "credentials": {
          "aws": {
            "access_key": "testing",
            "secret_access_key": "testing"
          }
        }
      },
      "_metadata": {
        "unpack": true,
        "mutable": true,
        "key": "experiments/1795900279_aa0f8d0c-3d28-4046-830c-84bdbea056e5/_metadata.tar",
        "local": "/home/user/.studioml/experiments/1795900279_aa0f8d0c-3d28-4046-830c-84bdbea056e5/_metadata",
        "qualified": "s3://127.0.0.1:5125/studioml-artifacts/experiments/1795900279_aa0f8d0c-3d28-4046-830c-84bdbea056e5/_metadata.tar",
        "bucket": "studioml-artifacts",
        "credentials": {
          "aws": {
            "access_key": "testing",
            "secret_access_key": "testing"
          }
        }
      }
    }
  },
  "config": {
    "database": {
      "type": "s3",
      "endpoint": "http://127.0.0.1:5125",
      "bucket": "studioml-meta",
      "authentication": "none",
      "credentials": {
        "aws": {
          "access_key": "testing",
          "secret_access_key": "testing"
        }
      }
    },
    "storage": {
      "type": "s3",
      "endpoint": "http://127.0.0.1:5125",
      "bucket": "studioml-artifacts",
      "credentials": {
        "aws": {
          "access_key": "testing",
          "secret_access_key": "testing"
        }
      }
    },
    "cloud": {
      "queue": {
        "sqs": {
          "credentials": {
            "aws": {
              "access_key": "testing",
              "secret_access_key": "testing",
              "region": "us-east-1"
            }
          }
        }
      }
    },
    "saveMetricsFrequency": "1m",
    "saveWorkspaceFrequency": "1m",
    "verbose": "debug",
    "resources_needed": {
      "cpus": 1,
      "ram": "1g",
      "hdd": "1g",
      "gpus": 0
    },
    "sleep_time": 1,
    "worker_timeout": 30
  }
}
"""#

    /// studio-config.yaml (without its final newline).
    static let config = #"""
# StudioML 0.0.49 config: database + storage on S3 (moto), queue on SQS (moto).
# NOTE: studio loads ONLY the first config file it finds (no merge with
# default_config.yaml), so every key the runner/worker reads must be here.
database:
    type: s3
    endpoint: http://127.0.0.1:PORT
    bucket: studioml-meta
    authentication: none
    credentials:
        aws:
            access_key: testing
            secret_access_key: testing

storage:
    type: s3
    endpoint: http://127.0.0.1:PORT
    bucket: studioml-artifacts
    credentials:
        aws:
            access_key: testing
            secret_access_key: testing

cloud:
    queue:
        sqs:
            # SQS endpoint itself is NOT configurable in studio 0.0.49;
            # it comes from AWS_ENDPOINT_URL(_SQS) (boto3 >= 1.28.57).
            credentials:
                aws:
                    access_key: testing
                    secret_access_key: testing
                    region: us-east-1

saveMetricsFrequency: 1m
saveWorkspaceFrequency: 1m
verbose: debug

resources_needed:
    cpus: 1
    ram:  1g
    hdd:  1g
    gpus: 0

sleep_time: 1
worker_timeout: 30
"""#
}
