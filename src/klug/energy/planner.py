"""The scenario planner: API inputs → one planning year → figures, monthly table, CSV."""

from __future__ import annotations

import csv
import io
from typing import Any

import numpy as np
import pandas as pd

from klug.energy.calc import scenario
from klug.energy.calc.scenario import ScenarioError
from klug.energy.schemas import ScenarioIn

__all__ = ["ScenarioError", "run", "run_json", "to_csv"]


def inputs(body: ScenarioIn) -> scenario.Inputs:
    return scenario.Inputs(
        year=body.year,
        demand_kwh_per_year=body.demand_gwh_per_year * 1e6,
        units=[
            scenario.Unit(u.name, u.source, u.capacity_kw, u.tilt_deg, u.azimuth_deg)
            for u in body.existing
        ],
        added_pv_mwp_by_area={str(k): v for k, v in body.added_pv_mwp.items()},
        added_wind_mw=body.added_wind_mw,
        storage_mwh=body.storage_mwh,
        storage_power_mw=body.storage_power_mw,
        storage_round_trip=body.storage_round_trip,
        export_limit_mw=body.export_limit_mw,
        target_share=body.target_share,
        emission_factor_g_per_kwh=body.emission_factor_g_per_kwh,
    )


def run(body: ScenarioIn) -> scenario.Result:
    return scenario.run(inputs(body))


def _gwh(values: Any) -> float:
    return round(float(np.sum(values)) / 1e6, 3)


def free_area_mwp(body: ScenarioIn) -> float:
    """MWp that still fit on the candidate areas after this scenario's additions."""
    added = {str(k): v for k, v in body.added_pv_mwp.items()}
    free_ha = sum(
        area.hectares - added.get(area.key, 0.0) * scenario.HECTARE_PER_MWP
        for area in scenario.AREAS
    )
    return max(0.0, free_ha / scenario.HECTARE_PER_MWP)


def run_json(body: ScenarioIn) -> dict[str, Any]:
    result = run(body)
    free_mwp = free_area_mwp(body)
    local = result.hours.tz_convert("Europe/Berlin")
    frame = pd.DataFrame(
        {
            "demand": result.demand_kwh,
            "renewable": result.renewable_kwh,
            "used": np.minimum(result.renewable_kwh, result.demand_kwh) + result.discharge_kwh,
            "export": result.export_kwh,
            "curtailed": result.curtailed_kwh,
        },
        index=local,
    )
    monthly = frame.groupby(local.month).sum() / 1e6
    return {
        "inputs": body.model_dump(mode="json"),
        "hours": len(result.hours),
        "demand_gwh": _gwh(result.demand_kwh),
        "generation_gwh_by_source": {k: _gwh(v) for k, v in result.generation_kwh.items()},
        "renewable_gwh": _gwh(result.renewable_kwh),
        "annual_share": round(result.annual_share, 4),
        "matched_share": round(result.matched_share, 4),
        "target_share": body.target_share,
        "target_reached": result.annual_share >= body.target_share,
        "surplus_exported_gwh": _gwh(result.export_kwh),
        "curtailed_gwh": _gwh(result.curtailed_kwh),
        "grid_import_gwh": _gwh(result.grid_import_kwh),
        "storage_cycled_gwh": _gwh(result.discharge_kwh),
        "co2_avoided_t": round(result.co2_avoided_t, 0),
        "land_use_ha": {k: round(v, 1) for k, v in result.land_use_ha.items()},
        "pv_yield_kwh_per_kwp": None
        if result.pv_yield_kwh_per_kwp is None
        else round(result.pv_yield_kwh_per_kwp, 0),
        "added_pv_mwp_for_target": None
        if result.added_pv_mwp_for_target is None
        else round(result.added_pv_mwp_for_target, 1),
        "candidate_area_free_mwp": round(free_mwp, 1),
        "added_pv_fits_candidate_areas": result.added_pv_mwp_for_target is None
        or result.added_pv_mwp_for_target <= free_mwp,
        "monthly_gwh": {
            "month": [int(m) for m in monthly.index],
            **{name: [round(float(v), 3) for v in monthly[name]] for name in monthly.columns},
        },
    }


def to_csv(body: ScenarioIn, result: scenario.Result) -> str:
    out = io.StringIO()
    out.write(f"# klug scenario, inputs: {body.model_dump_json()}\n")
    writer = csv.writer(out)
    sources = sorted(result.generation_kwh)
    writer.writerow(
        [
            "hour_utc",
            "hour_local",
            "demand_kwh",
            *[f"{s}_kwh" for s in sources],
            "storage_charge_kwh",
            "storage_discharge_kwh",
            "storage_level_kwh",
            "grid_import_kwh",
            "export_kwh",
            "curtailed_kwh",
        ]
    )
    local = result.hours.tz_convert("Europe/Berlin")
    columns = [
        result.demand_kwh,
        *[result.generation_kwh[s] for s in sources],
        result.charge_kwh,
        result.discharge_kwh,
        result.state_of_charge_kwh,
        result.grid_import_kwh,
        result.export_kwh,
        result.curtailed_kwh,
    ]
    table = np.round(np.column_stack(columns), 1)
    for utc, wall, row in zip(result.hours, local, table.tolist(), strict=True):
        writer.writerow([utc.isoformat(), wall.isoformat(), *row])
    return out.getvalue()
