"""Plotly figure builders: arrays, labels and explicit options in, ``go.Figure`` out, never rendered here.

- ``heatmap``: the honest heatmap every matrix is drawn with (``figures.heatmap``).
- ``playground``: the Playground's stage panels and the inspector's bar chart.
- ``lab``: the constant lab's leaked-mass chart.
- ``conventions``: a mask as one framework sees it.
- ``masks``: a mask to draw on, a mask part in its own shape, the batch × heads broadcasting grid.
- ``proof``: the Proof page's panels (delete the columns, the leak test, the backward pass).
- ``bias``: one key's bias from a tilt to a mask, ALiBi's heads side by side.
- ``base``: template, fonts, colour scales, safe labels, frozen figures, the camera's export config.

Figure builders never call Streamlit and never read app settings: sizes and fonts are arguments.
"""

from .bias import alibi_head_figures, bias_heatmap, bias_row_figure
from .base import (BASE_FONT, DTYPE_STYLE, LOGIT_SCALE, PRESENTATION_FONT, TEMPLATE, WEIGHT_SCALE, FrozenFigure,
                   export_config, safe_label)
from .conventions import convention_mask_figure
from .heatmap import (MAX_CLICKABLE, PANEL_WIDTH, SPECIAL, Geometry, colour_range, geometry, heatmap,
                      outline_path, row_outline, special_codes)
from .lab import leaked_mass_figure
from .masks import MAX_GRID_SEQUENCES, SMALL_PANEL, broadcast_figures, drawn_mask_figure, part_figure
from .playground import (FIGURE_NAMES, PUBLICATION_CELL, PUBLICATION_FONT, STAGES, playground_figures,
                         stage_titles, state_subtitle)
from .proof import (DELETED_NAMES, GRADIENT_NAMES, LEAK_NAMES, deleted_figures, gradient_figures, leak_figures,
                    max_abs, value_labels)

__all__ = [
    "BASE_FONT", "DELETED_NAMES", "alibi_head_figures", "bias_heatmap", "bias_row_figure", "DTYPE_STYLE", "FIGURE_NAMES", "FrozenFigure", "GRADIENT_NAMES", "Geometry",
    "LEAK_NAMES", "LOGIT_SCALE", "MAX_CLICKABLE", "MAX_GRID_SEQUENCES", "PANEL_WIDTH", "PRESENTATION_FONT",
    "PUBLICATION_CELL", "PUBLICATION_FONT", "SMALL_PANEL", "SPECIAL", "STAGES", "TEMPLATE", "WEIGHT_SCALE",
    "broadcast_figures", "colour_range", "convention_mask_figure", "deleted_figures", "drawn_mask_figure",
    "export_config", "geometry", "gradient_figures", "heatmap", "leak_figures", "leaked_mass_figure", "max_abs",
    "outline_path", "part_figure", "playground_figures", "row_outline", "safe_label", "special_codes",
    "stage_titles", "state_subtitle", "value_labels",
]
