import requests
from flask import Flask

app = Flask(__name__)


@app.route("/")
def index():
    return f"hello from flask (requests {requests.__version__})\n"
