from flask import Flask

app = Flask(__name__)


@app.route("/")
def index():
    return "hello from a Pipfile.lock app\n"
