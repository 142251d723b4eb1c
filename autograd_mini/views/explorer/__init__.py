"""The explorer: one self-contained HTML page that steps through forward and backward.

`data` computes every number the page shows (in Python); `page` writes the page
around explorer.js and explorer.css, which only display them.
"""
