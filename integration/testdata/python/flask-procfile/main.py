import os
import sys

from flask import Flask

app = Flask(__name__)


@app.route("/")
def index():
    return f"hello from flask on python {sys.version_info[0]}.{sys.version_info[1]}\n"


@app.route("/env")
def env():
    return {"PORT": os.environ.get("PORT"), "PYTHONUNBUFFERED": os.environ.get("PYTHONUNBUFFERED")}
