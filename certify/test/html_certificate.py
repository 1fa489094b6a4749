#!/usr/bin/env python3
"""Certifies a builtin with the standard battery, renders its HTML certificate in headless
Chromium and checks what a reader sees: the verdict and the plots (the DOM after rendering, and a
screenshot that is a real PNG of the page).

    html_certificate.py SOFTCERT BUILTIN [SCREENSHOT.png]

Needs chromium (ci/install-deps.sh installs it). Standard library only.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile


def main():
    softcert, builtin = sys.argv[1], sys.argv[2]
    screenshot = sys.argv[3] if len(sys.argv) > 3 else None
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        print("chromium is not installed (ci/install-deps.sh installs it)")
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        html = os.path.join(tmp, "certificate.html")
        run = subprocess.run([softcert, "certify", "--builtin", builtin, "--battery", "standard", "--html", html],
                             capture_output=True, text=True, timeout=600)
        if run.returncode != 0:
            print(run.stdout[-3000:], run.stderr[-3000:])
            print(f"softcert exited {run.returncode}, expected 0")
            return 1
        flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars",
                 f"--user-data-dir={tmp}/profile"]
        dom = subprocess.run([chromium, *flags, "--dump-dom", "file://" + html], capture_output=True, text=True,
                             timeout=120).stdout
        png = screenshot or os.path.join(tmp, "certificate.png")
        subprocess.run([chromium, *flags, "--window-size=1280,2000", f"--screenshot={png}", "file://" + html],
                       capture_output=True, timeout=120)
        verdict = re.search(r'<span id="verdict" class="(\w+)">([^<]*)</span>', dom)
        plots = len(re.findall(r'<svg class="plot', dom))
        histograms = len(re.findall(r'<svg class="plot histogram', dom))
        points = len(re.findall(r"<circle ", dom))
        graded = len(re.findall(r'<tr class="g-', dom))
        with open(png, "rb") as f:
            is_png = f.read(8) == b"\x89PNG\r\n\x1a\n"
        size = os.path.getsize(png)
        print(f"{builtin}: verdict {verdict.group(2) if verdict else None!r}, {plots} plots ({histograms} histograms, "
              f"{points} points) for {graded} graded functions, screenshot {size} bytes")
        ok = (verdict is not None and verdict.group(1) == "pass" and verdict.group(2) == "PASS" and graded >= 1
              and histograms == graded
              and plots == 3 * histograms and points > 100 and is_png and size > 20000)
        return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
