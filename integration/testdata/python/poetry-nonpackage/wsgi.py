from flask import Flask

app = Flask(__name__)

STOCK = {"bolts": 120, "nuts": 75}


@app.route("/")
def index():
    return "inventory: %d items tracked (poetry app, not a package)\n" % len(STOCK)
