"""The Python that runs inside PostgreSQL: the code photo_ai's plpython3u functions import.

`make install` copies this package to a directory named after the extension's version
(see the Makefile), and every plpython3u function of that version puts that directory on
sys.path before importing from here, so two versions never mix during an upgrade. The SQL
side passes settings in as arguments: nothing here reads the database.

Only the standard library is used, plus jieba (Debian's python3-jieba) for word
segmentation, because this runs in the server's own Python, not in a virtual environment.
"""

__version__ = "0.3.0"  # the extension's version; tests/plpython checks they agree
