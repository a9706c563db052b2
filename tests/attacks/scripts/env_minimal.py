"""Attack: read host secrets from the environment handed to the script (tokens, cloud
credentials, the operator's variables). Only a fixed minimal set may be present."""
import os


def main():
    return {"environ": dict(os.environ)}
