-- A kitchen's type (issue 15, coverage): what the bureau's coverage targets count by
-- (delivery-only shops, school canteens, ...). NULL: not a kitchen, or not known yet
-- (counted as 'other' in the coverage figures).
ALTER TABLE site ADD COLUMN kitchen_type text
    CHECK (kitchen_type IN ('restaurant', 'delivery_only', 'school_canteen', 'canteen',
                            'central_kitchen', 'other'));
