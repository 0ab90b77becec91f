"""`ringwatch report`: one self-contained HTML file of trend charts, plus a PNG of each chart.

    data.py     read everything the report shows, read-only, into typed records
    charts.py   draw each chart (matplotlib) as SVG and PNG, with the numbers it draws
    page.py     lay the charts and tables out as one HTML file with nothing to fetch
    build.py    write the files
"""
