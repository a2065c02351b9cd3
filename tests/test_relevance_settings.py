"""relevance/settings.py: the RELEVANCE_* settings, checked once."""

from pathlib import Path

import pytest

from relevance import RelevanceConfig, RelevanceConfigError
from seeds import SEEDS_DIR


def test_defaults_use_the_packaged_seeds_and_a_derived_threshold():
    config = RelevanceConfig.from_settings({})
    assert config == RelevanceConfig(
        enabled=True, seeds_dir=SEEDS_DIR, threshold=None, priority_enabled=True, rejected_list_max=500
    )


def test_values_from_the_command_line_are_parsed():
    config = RelevanceConfig.from_settings(
        {"RELEVANCE_ENABLED": "False", "RELEVANCE_SEEDS_DIR": "/x", "RELEVANCE_THRESHOLD": "0.25",
         "RELEVANCE_PRIORITY_ENABLED": "0", "RELEVANCE_REJECTED_LIST_MAX": "7"}
    )
    assert config == RelevanceConfig(
        enabled=False, seeds_dir=Path("/x"), threshold=0.25, priority_enabled=False, rejected_list_max=7
    )
    assert RelevanceConfig.from_settings({"RELEVANCE_THRESHOLD": ""}).threshold is None


def test_a_bad_value_names_the_setting():
    with pytest.raises(RelevanceConfigError, match="^RELEVANCE_THRESHOLD: Input should be a valid number"):
        RelevanceConfig.from_settings({"RELEVANCE_THRESHOLD": "high"})
    with pytest.raises(RelevanceConfigError, match="^RELEVANCE_THRESHOLD: Input should be less than or equal to 1"):
        RelevanceConfig.from_settings({"RELEVANCE_THRESHOLD": 2})


def test_a_bad_seeds_folder_is_a_config_error_naming_it(tmp_path):
    config = RelevanceConfig.from_settings({"RELEVANCE_SEEDS_DIR": str(tmp_path)})
    with pytest.raises(RelevanceConfigError, match=f"^seeds folder {tmp_path}: has no .txt seed documents$"):
        config.profile()
