"""Marshmallow schemas: how the registry's objects look as JSON, and the shape of what may come in.

Input schemas check types and drop unknown keys; the rules of the data (national ID, postal code,
coordinates in Iran…) are the operations' own, so every path into the registry applies the same ones.
"""

from marshmallow import EXCLUDE, Schema, fields


class _In(Schema):
    class Meta:
        unknown = EXCLUDE


class SubscriberOut(Schema):
    id = fields.Integer()
    kind = fields.String()
    display_name = fields.String()
    first_name = fields.String()
    last_name = fields.String()
    father_name = fields.String()
    birth_date = fields.Date(allow_none=True)
    legal_name = fields.String()
    economic_code = fields.String()
    registration_no = fields.String()
    national_id = fields.String()
    mobile = fields.String()
    phone = fields.String()
    email = fields.String()
    region_id = fields.Integer()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class SubscriberIn(_In):
    kind = fields.String()
    first_name = fields.String()
    last_name = fields.String()
    father_name = fields.String()
    birth_date = fields.Date(allow_none=True)
    legal_name = fields.String()
    economic_code = fields.String()
    registration_no = fields.String()
    national_id = fields.String()
    mobile = fields.String()
    phone = fields.String()
    email = fields.String()
    region_id = fields.Integer()


class PremiseOut(Schema):
    id = fields.Integer()
    subscriber_id = fields.Integer(allow_none=True)
    province = fields.String()
    city = fields.String()
    district = fields.String()
    street = fields.String()
    alley = fields.String()
    plaque = fields.String()
    unit = fields.String()
    postal_code = fields.String()
    latitude = fields.Decimal(as_string=True, allow_none=True)
    longitude = fields.Decimal(as_string=True, allow_none=True)
    region_id = fields.Integer()
    climate_zone = fields.String()
    building_use = fields.String()
    address = fields.String()


class PremiseIn(_In):
    subscriber_id = fields.Integer()
    province = fields.String()
    city = fields.String()
    district = fields.String()
    street = fields.String()
    alley = fields.String()
    plaque = fields.String()
    unit = fields.String()
    postal_code = fields.String()
    latitude = fields.Raw(allow_none=True)
    longitude = fields.Raw(allow_none=True)
    region_id = fields.Integer()
    climate_zone = fields.String()
    building_use = fields.String()


class ServicePointOut(Schema):
    id = fields.Integer()
    premise_id = fields.Integer()
    utility = fields.String()
    phases = fields.Integer(allow_none=True)
    amperage = fields.Integer(allow_none=True)
    pipe_diameter = fields.String()
    gas_meter_size = fields.String()
    status = fields.String()


class ServicePointIn(_In):
    utility = fields.String(required=True)
    phases = fields.Integer()
    amperage = fields.Integer()
    pipe_diameter = fields.String()
    gas_meter_size = fields.String()


class ContractOut(Schema):
    id = fields.Integer()
    subscription_no = fields.String()
    revision = fields.Integer()
    file_no = fields.String()
    bill_id = fields.String()
    subscriber_id = fields.Integer()
    service_point_id = fields.Integer()
    region_id = fields.Integer()
    tariff_type = fields.String()
    contracted_demand = fields.Integer(allow_none=True)
    discount_category = fields.String()
    start_date = fields.Date()
    end_date = fields.Date(allow_none=True)
    status = fields.String()
    close_reason = fields.String()
    predecessor_id = fields.Integer(allow_none=True)


class ContractIn(_In):
    subscriber_id = fields.Integer(required=True)
    service_point_id = fields.Integer(required=True)
    start_date = fields.Date(required=True)
    tariff_type = fields.String(required=True)
    contracted_demand = fields.Integer(allow_none=True)
    discount_category = fields.String()


class TransferIn(_In):
    new_owner_id = fields.Integer(required=True)
    on = fields.Date(required=True)
    tariff_type = fields.String()
    contracted_demand = fields.Integer(allow_none=True)
    discount_category = fields.String()


class CloseIn(_In):
    on = fields.Date(required=True)


class MeterOut(Schema):
    id = fields.Integer()
    serial = fields.String()
    utility = fields.String()
    manufacturer = fields.String()
    model = fields.String()
    kind = fields.String()
    register_set = fields.String()
    has_reactive = fields.Boolean()
    digits = fields.Integer()
    multiplier = fields.Integer()
    manufacture_year = fields.Integer(allow_none=True)
    status = fields.String()
    region_id = fields.Integer()


class MeterIn(_In):
    serial = fields.String()
    utility = fields.String()
    manufacturer = fields.String()
    model = fields.String()
    kind = fields.String()
    register_set = fields.String()
    has_reactive = fields.Boolean()
    digits = fields.Integer()
    multiplier = fields.Integer()
    manufacture_year = fields.Integer(allow_none=True)
    region_id = fields.Integer()


class InstallIn(_In):
    meter_id = fields.Integer(required=True)
    on = fields.Date(required=True)
    readings = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)


class RemoveIn(_In):
    on = fields.Date(required=True)
    readings = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)
    reason = fields.String()
    meter_status = fields.String()


class InstallationOut(Schema):
    id = fields.Integer()
    meter_id = fields.Integer()
    service_point_id = fields.Integer()
    installed_on = fields.Date()
    removed_on = fields.Date(allow_none=True)
    initial_readings = fields.Dict()
    final_readings = fields.Dict(allow_none=True)


class HitOut(Schema):
    subscriber_id = fields.Integer(allow_none=True)
    score = fields.Float()
    field = fields.String()
    value = fields.String()
    contract_id = fields.Integer(allow_none=True)
    meter_id = fields.Integer(allow_none=True)
