"""The lines of business a distribution company serves."""

import enum


class Utility(enum.StrEnum):
    ELECTRICITY = "electricity"
    WATER = "water"
    GAS = "gas"


UTILITY_NAMES_FA = {
    Utility.ELECTRICITY: "برق",
    Utility.WATER: "آب",
    Utility.GAS: "گاز",
}
