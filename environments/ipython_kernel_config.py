# Loads espri-vre's provenance capture in every IPython kernel of the environment.
# Installed as <environment>/etc/ipython/ipython_kernel_config.py by the Dockerfiles (IPython
# reads that directory for every kernel it starts); a user's own profile can add extensions.
c = get_config()  # noqa: F821
c.InteractiveShellApp.extensions.append("espri_vre")
