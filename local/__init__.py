"""The local stack: template.yaml run on one machine with moto in server mode, no AWS, no Docker."""
