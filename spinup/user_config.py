"""Defaults a user may change: where runs are saved, whether directories get a date stamp."""

import os
import os.path as osp

# Where experiment outputs go unless a data_dir is given. SPINUP_DATA_DIR overrides it.
DEFAULT_DATA_DIR = os.environ.get("SPINUP_DATA_DIR", osp.join(os.getcwd(), "data"))

# Whether to put a date and time in front of experiment directory names by default.
FORCE_DATESTAMP = False

# Whether ExperimentGrid.run shows the grid and waits a few seconds before launching.
DEFAULT_SHORTHAND = True
WAIT_BEFORE_LAUNCH = 0
