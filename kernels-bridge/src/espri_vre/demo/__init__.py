"""The demo builder: `python -m espri_vre.demo build DIR` writes synthetic CF-compliant data,
the catalogues that describe it and the server configuration that points JupyterLab at them."""
