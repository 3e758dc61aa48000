"""Every device model hwsim declares can be fitted; options are checked like config."""
import pytest

from hwsim.devices import DEVICE_MODELS
from hwsim.errors import ConfigError
from hwsim.fit import select
from hwsim.fit.options import fit_options


def test_every_hwsim_device_model_has_a_fit():
    assert set(select.MODELS) == set(DEVICE_MODELS)
    assert set(select.AUTO_ORDER) <= set(DEVICE_MODELS)


def test_options_are_range_checked():
    assert fit_options(piecewise_nodes=21).piecewise_nodes == 21
    with pytest.raises(ConfigError) as e:
        fit_options(piecewise_nodes=1)
    assert e.value.key == "device_fit.piecewise_nodes"
    with pytest.raises(ConfigError):
        fit_options(model="magic_step")
