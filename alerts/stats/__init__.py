"""Kitchen statistics per kitchen, district and city, computed in SQL (`queries`).

Definitions, for a window [since, until), with time measures up to min(until, now):

- operating hours: the site's `operating_hours` (local time in its `timezone`; a close
  at or before the open runs past midnight); a kitchen without any is open 24 h.
- camera online time: for each registered camera, the periods its availability was
  `online` (each availability message holds until the next one) less the periods a
  `CAMERA_OFFLINE` alert of that camera was open (connected but no frames).
- camera-hours: the sum over a kitchen's registered cameras of online time within
  operating hours, in hours. Expected camera-hours: registered cameras x operating hours.
- camera online rate: camera-hours / expected camera-hours (kitchens.md target >= 95 %).
- confirmed violations per 1,000 camera-hours: reviews confirmed whose detection falls
  in the window, x 1,000 / camera-hours.
- false-positive rate per code: dismissed / decided, over reviews decided in the window.
- on-time rectification rate: of the cases whose fix deadline falls in the window and
  has passed (or which were rectified), the share rectified (accepted evidence submitted)
  by the deadline.
- mean time to close: mean hours from confirmation to closing, over the cases with a
  rectification notice closed in the window.
- coverage: the share of registered kitchens with any camera online time in the window.
- bright-kitchen coverage (GET /api/v1/stats/kitchens/coverage): a kitchen is covered
  when it streamed in the window and its camera online rate is at least
  `coverage_min_online_rate`; counted in all, per `kitchen_type` and per district.
- a camera's expected hours start at its registration or its first message, whichever
  is earlier: a camera registered yesterday is not expected to have streamed a month.

Hygiene score (0-100), per kitchen:

    W = (5 T1 + 3 T2 + 1 T3 confirmed) x 1,000 / camera-hours     (tier weights)
    v = max(0, 1 - W / 50)         0 when there are no camera-hours   (saturation)
    r = on-time rectification rate, 1 when no case was due
    a = camera online rate, 0 without expected camera-hours
    score = 100 x (0.5 v + 0.3 r + 0.2 a)

Camera hours are rolled up per camera and UTC day by the `alerts` component (table
camera_hours_daily): complete rows for days over for an hour, a provisional row for the
current day refreshed every few minutes. A request reads complete days from the rollup,
the current day from its provisional row while that is at most 15 minutes old (so a
figure "up to now" may lag by that much), and computes anything else (a window starting
or ending inside a day, a day not rolled up yet) live with the same SQL functions.

A kitchen with fewer camera-hours than `min_observed_hours` has no score ("no data",
null): never a grade it has not earned; the public page, the console and the lists all
read this one score (`queries.kitchen_score`).

All weights are settings (`[alerts.stats]`). A district's or the city's score is the mean
of its scored kitchens' scores; its rates are computed from summed counts and hours;
counts are integers.

Red/black list (红黑榜): the red (honour) list holds kitchens with a score >= 90, an
online rate >= 95 %, no confirmed T1 or T2 violation and no open card; the black list
holds kitchens scoring below 60, or given a red card or an on-site inspection order in
the window, or not streaming at all.
"""
