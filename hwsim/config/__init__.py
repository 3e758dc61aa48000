"""Configuration layer (layer 1): YAML -> frozen, validated dataclasses in SI units."""
from hwsim.config.params import (ParamSpec, build_section, describe_section, iter_params,
                                 json_schema, param, section)

__all__ = ["ParamSpec", "build_section", "describe_section", "iter_params", "json_schema",
           "param", "section"]
