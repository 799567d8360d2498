"""The closed vocabularies of the registry. Stored as their string values."""

import enum


class SubscriberKind(enum.StrEnum):
    PERSON = "person"  # شخص حقیقی
    LEGAL = "legal"  # شخص حقوقی


class BuildingUse(enum.StrEnum):
    RESIDENTIAL = "residential"
    COMMERCIAL = "commercial"
    INDUSTRIAL = "industrial"
    AGRICULTURAL = "agricultural"
    PUBLIC = "public"
    OTHER = "other"


class ClimateZone(enum.StrEnum):
    """The tariffs' warm-region classes (مناطق گرمسیر): normal, then warm 1 (hottest) to warm 4."""

    NORMAL = "normal"
    WARM1 = "warm1"
    WARM2 = "warm2"
    WARM3 = "warm3"
    WARM4 = "warm4"


class ServicePointStatus(enum.StrEnum):
    REQUESTED = "requested"
    ACTIVE = "active"
    DISCONNECTED = "disconnected"
    TERMINATED = "terminated"


class MeterKind(enum.StrEnum):
    MECHANICAL = "mechanical"
    DIGITAL = "digital"
    SMART = "smart"
    PREPAID = "prepaid"


class RegisterSet(enum.StrEnum):
    SINGLE = "single"  # one register
    TOU = "tou"  # time of use: peak, mid, off-peak


SINGLE_REGISTERS = ("single",)
TOU_REGISTERS = ("peak", "mid", "offpeak")
REACTIVE_REGISTER = "reactive"


class MeterStatus(enum.StrEnum):
    IN_STOCK = "in_stock"
    INSTALLED = "installed"
    IN_TEST = "in_test"
    FAULTY = "faulty"
    RETIRED = "retired"


class ContractStatus(enum.StrEnum):
    ACTIVE = "active"
    CLOSED = "closed"


class CloseReason(enum.StrEnum):
    TERMINATED = "terminated"  # the subscription ends (جمع‌آوری انشعاب)
    TRANSFERRED = "transferred"  # a new owner took it over (تغییر نام)


class DiscountCategory(enum.StrEnum):
    NONE = "none"
    MARTYR_FAMILY = "martyr_family"  # خانواده‌های معظم شهدا و ایثارگران
    WELFARE = "welfare"  # مددجویان بهزیستی و کمیته امداد
    RELIGIOUS = "religious"  # اماکن مذهبی
    SCHOOL = "school"  # مدارس


class DocumentKind(enum.StrEnum):
    NATIONAL_CARD = "national_card"
    DEED = "deed"
    LEASE = "lease"
    PERMIT = "permit"
    PHOTO = "photo"
    OTHER = "other"


TARIFF_TYPES = ("residential", "public", "agricultural", "industrial", "commercial")
GAS_METER_SIZES = ("G2.5", "G4", "G6", "G10", "G16", "G25", "G40", "G65", "G100")
WATER_PIPE_DIAMETERS = ("1/2", "3/4", "1", "1.5", "2", "3", "4")
