# This file is part of BackOffice for Tryton.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
"Polygons: GeoJSON parsing and validation, overlaps, the point lookup grid"
import json
import math

import numpy as np
import shapely
from shapely import GeometryType

# Polygons whose intersection is smaller than this (in square degrees, about
# 1 m² at our latitudes) only share a border drawn twice.
OVERLAP_AREA_TOLERANCE = 1e-10


class GeometryError(ValueError):
    """A polygon that cannot be used

    reason: json, type, coordinates, range, invalid or empty; detail: text
    for the message (the offending coordinate, shapely's reason, ...)
    """

    def __init__(self, reason, detail=''):
        super().__init__(reason, detail)
        self.reason = reason
        self.detail = detail


def _coordinates(value, depth):
    "Check the nesting of GeoJSON coordinates and return them as floats"
    if depth == 0:
        if (not isinstance(value, (list, tuple)) or len(value) < 2
                or not all(isinstance(c, (int, float))
                    and not isinstance(c, bool) for c in value)):
            raise GeometryError('coordinates', json.dumps(value)[:60])
        try:
            lon, lat = float(value[0]), float(value[1])
        except OverflowError as exception:
            # an integer with hundreds of digits
            raise GeometryError(
                'coordinates', json.dumps(value)[:60]) from exception
        if not (math.isfinite(lon) and math.isfinite(lat)):
            raise GeometryError('coordinates', json.dumps(value)[:60])
        return (lon, lat)
    if not isinstance(value, (list, tuple)) or not value:
        raise GeometryError('coordinates', json.dumps(value)[:60])
    return [_coordinates(v, depth - 1) for v in value]


def geojson_polygons(text):
    "Return the list of polygons (lists of rings) of a GeoJSON text"
    try:
        data = json.loads(text) if isinstance(text, str) else text
    except ValueError as exception:
        raise GeometryError('json', str(exception)) from exception
    except RecursionError as exception:
        # e.g. 100,000 nested brackets: no polygon nests that deep
        raise GeometryError('json', "nested too deeply") from exception
    if not isinstance(data, dict):
        raise GeometryError('json', type(data).__name__)
    type_ = data.get('type')
    # A GeoJSON editor (geojson.io, QGIS) exports a Feature or a
    # FeatureCollection: accept one feature and use its geometry.
    if type_ == 'FeatureCollection':
        features = data.get('features') or []
        if not isinstance(features, list):
            raise GeometryError('type', 'FeatureCollection')
        if len(features) != 1:
            raise GeometryError('type', f'FeatureCollection/{len(features)}')
        data = features[0]
        type_ = data.get('type') if isinstance(data, dict) else None
    if type_ == 'Feature':
        data = data.get('geometry')
        if not isinstance(data, dict):
            raise GeometryError('type', 'Feature')
        type_ = data.get('type')
    if type_ == 'Polygon':
        return [_coordinates(data.get('coordinates'), 2)]
    elif type_ == 'MultiPolygon':
        return _coordinates(data.get('coordinates'), 3)
    raise GeometryError('type', str(type_))


def ragged_multipolygons(polygon_lists):
    """Build MultiPolygons from lists of polygons in one vectorised call
    (shapely.from_ragged_array): much faster than one constructor per
    polygon, which matters for the compile time of hundreds of polygons"""
    coords, ring_offsets, polygon_offsets, part_offsets = [], [0], [0], [0]
    for polygons in polygon_lists:
        for rings in polygons:
            for ring in rings:
                coords.extend(ring)
                if ring[0] != ring[-1]:
                    coords.append(ring[0])
                ring_offsets.append(len(coords))
            polygon_offsets.append(len(ring_offsets) - 1)
        part_offsets.append(len(polygon_offsets) - 1)
    return shapely.from_ragged_array(
        GeometryType.MULTIPOLYGON, np.asarray(coords, dtype=float).reshape(
            -1, 2),
        (np.asarray(ring_offsets), np.asarray(polygon_offsets),
            np.asarray(part_offsets)))


def parse_geojson(text, validate=True):
    """Return the (Multi)Polygon of a GeoJSON text (lon/lat)

    With validate, raise GeometryError unless the polygon is usable: every
    ring closed with at least 4 positions, coordinates within lon [-180, 180]
    and lat [-90, 90], valid for shapely (is_valid_reason names the problem,
    e.g. a self-intersection) and with an area."""
    polygons = geojson_polygons(text)
    if validate:
        for rings in polygons:
            for ring in rings:
                closed = ring if ring[0] == ring[-1] else ring + [ring[0]]
                if len(closed) < 4:
                    raise GeometryError('coordinates', json.dumps(ring)[:60])
                for lon, lat in ring:
                    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
                        raise GeometryError('range', f'{lon} {lat}')
    geometry = ragged_multipolygons([polygons])[0]
    if len(polygons) == 1:
        geometry = geometry.geoms[0]
    if validate:
        if not shapely.is_valid(geometry):
            raise GeometryError('invalid', shapely.is_valid_reason(geometry))
        if geometry.is_empty or geometry.area <= 0:
            raise GeometryError('empty')
    return geometry


def polygons_tie(a, b):
    "Whether two polygons share an area (not just a border)"
    if not shapely.intersects(a, b):
        return False
    return shapely.intersection(a, b).area > OVERLAP_AREA_TOLERANCE


class PolygonGrid:
    """Candidate polygons per cell of a regular grid over their bounds

    Point lookups use it instead of STRtree.query, which needs a shapely
    Point per lookup: creating 100,000 points costs more than the whole
    grid lookup (measured with scripts/bench_zone.py). Polygons are stored
    by rank, so the candidates of a cell come best first."""
    MAX_CELLS = 1 << 20
    MAX_ENTRIES = 1 << 22

    def __init__(self, bounds):
        count = len(bounds)
        self.empty = not count
        if self.empty:
            return
        self.x0, self.y0 = bounds[:, 0].min(), bounds[:, 1].min()
        x1, y1 = bounds[:, 2].max(), bounds[:, 3].max()
        sizes = np.maximum(
            bounds[:, 2] - bounds[:, 0], bounds[:, 3] - bounds[:, 1])
        # About 2 x 2 cells per typical polygon keeps the candidates per
        # point near the bounding-box ideal without too many cells.
        size = float(np.median(sizes)) / 2 or 1e-6
        while True:
            nx = int((x1 - self.x0) / size) + 1
            ny = int((y1 - self.y0) / size) + 1
            ix0, iy0, ix1, iy1 = self._cells(bounds, size, nx, ny)
            per_polygon = (ix1 - ix0 + 1) * (iy1 - iy0 + 1)
            if (nx * ny <= self.MAX_CELLS
                    and per_polygon.sum() <= self.MAX_ENTRIES):
                break
            size *= 2
        self.size, self.nx, self.ny = size, nx, ny
        polygon = np.repeat(np.arange(count), per_polygon)
        local = np.arange(per_polygon.sum()) - np.repeat(
            np.cumsum(per_polygon) - per_polygon, per_polygon)
        width = np.repeat(ix1 - ix0 + 1, per_polygon)
        cell = ((np.repeat(iy0, per_polygon) + local // width) * nx
            + np.repeat(ix0, per_polygon) + local % width)
        order = np.lexsort((polygon, cell))
        self.candidates = polygon[order]
        self.starts = np.searchsorted(
            cell[order], np.arange(nx * ny + 1)).astype(np.int64)

    def _cells(self, bounds, size, nx, ny):
        ix0 = np.clip(((bounds[:, 0] - self.x0) / size).astype(np.int64),
            0, nx - 1)
        iy0 = np.clip(((bounds[:, 1] - self.y0) / size).astype(np.int64),
            0, ny - 1)
        ix1 = np.clip(((bounds[:, 2] - self.x0) / size).astype(np.int64),
            0, nx - 1)
        iy1 = np.clip(((bounds[:, 3] - self.y0) / size).astype(np.int64),
            0, ny - 1)
        return ix0, iy0, ix1, iy1

    def cell(self, x, y):
        ix = math.floor((x - self.x0) / self.size)
        iy = math.floor((y - self.y0) / self.size)
        if 0 <= ix < self.nx and 0 <= iy < self.ny:
            return iy * self.nx + ix
        return -1

    def cells(self, xs, ys):
        with np.errstate(invalid='ignore'):
            fx = np.floor((xs - self.x0) / self.size)
            fy = np.floor((ys - self.y0) / self.size)
        inside = ((fx >= 0) & (fx < self.nx) & (fy >= 0) & (fy < self.ny))
        cell = np.full(len(xs), -1, dtype=np.int64)
        cell[inside] = (fy[inside].astype(np.int64) * self.nx
            + fx[inside].astype(np.int64))
        return cell
