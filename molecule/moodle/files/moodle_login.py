"""Log in to Moodle through its login form, as a browser does; print what the dashboard shows.

Takes the FIRST logintoken of the page (the second belongs to the guest form) and keeps the
session cookie across the 303 redirect. Credentials come from MOODLE_USER / MOODLE_PASSWORD.
"""
import http.cookiejar
import json
import os
import re
import sys
import urllib.parse
import urllib.request

base = sys.argv[1].rstrip("/")
opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
form = opener.open(base + "/login/index.php").read().decode()
token = re.search(r'name="logintoken" value="([^"]+)"', form).group(1)
body = urllib.parse.urlencode({"username": os.environ["MOODLE_USER"], "password": os.environ["MOODLE_PASSWORD"],
                               "logintoken": token}).encode()
opener.open(base + "/login/index.php", data=body).read()
dashboard = opener.open(base + "/my/")
page = dashboard.read().decode()
title = re.search(r"<title>([^<]*)</title>", page)
print(json.dumps({"url": dashboard.geturl(), "title": title.group(1) if title else ""}))
