"""The Jupyter server extension: the ExtensionApp, its configuration and the route table."""
