"""Reports from the store: the HTML leak report, JSON, SARIF, Markdown and CSV."""
