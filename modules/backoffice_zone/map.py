# This file is part of BackOffice for Tryton.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
"""A zone's polygons drawn as a small SVG map, which both Tryton clients
show with their image widget"""
import math
from xml.sax.saxutils import quoteattr

import shapely

WIDTH = 360
PADDING = 0.04


def _rings(geometry):
    for polygon in getattr(geometry, 'geoms', [geometry]):
        yield polygon.exterior.coords
        for interior in polygon.interiors:
            yield interior.coords


def _path(geometry, k):
    # y is the negated latitude: north up
    return ' '.join(
        'M ' + ' L '.join(f'{x * k:.6f},{-y:.6f}' for x, y in ring) + ' Z'
        for ring in _rings(geometry))


def zone_svg(geometries, colour):
    """The SVG (bytes) of the (Multi)Polygons in longitude/latitude, north
    up, longitudes shrunk by the cosine of the latitude so that shapes keep
    their proportions"""
    minx, miny, maxx, maxy = shapely.total_bounds(geometries).tolist()
    k = math.cos(math.radians((miny + maxy) / 2))
    width, height = (maxx - minx) * k, maxy - miny
    pad = max(width, height) * PADDING
    view_box = (f'{minx * k - pad:.6f} {-maxy - pad:.6f} '
        f'{width + 2 * pad:.6f} {height + 2 * pad:.6f}')
    pixel_height = max(1, round(WIDTH * (height + 2 * pad)
            / (width + 2 * pad)))
    paths = ''.join(
        f'<path d="{_path(g, k)}" fill={quoteattr(colour)} '
        'fill-opacity="0.35" fill-rule="evenodd" stroke={0} '
        'stroke-width="2" vector-effect="non-scaling-stroke"/>'.format(
            quoteattr(colour))
        for g in geometries)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" '
        f'height="{pixel_height}" viewBox="{view_box}">{paths}</svg>'
        ).encode()
