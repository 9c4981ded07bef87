"""The import rewrite table: Keras import lines become cnnkit ones, nothing else changes."""

from __future__ import annotations

import re

import pytest

from tests.compat._keras_source import PROGRAMS, changed_lines, rewrite_imports


@pytest.mark.parametrize(
    ("keras_line", "cnnkit_line"),
    [
        ("from tensorflow import keras", "import cnnkit as keras"),
        ("import keras", "import cnnkit as keras"),
        ("from tensorflow.keras import layers, models", "from cnnkit import layers, models"),
        ("from keras import layers, models", "from cnnkit import layers, models"),
        ("from tensorflow.keras.layers import Conv2D", "from cnnkit.layers import Conv2D"),
        (
            "from keras.models import Sequential, load_model",
            "from cnnkit.models import Sequential, load_model",
        ),
        ("from keras.utils import to_categorical", "from cnnkit.utils import to_categorical"),
        ("from tensorflow.keras.optimizers import Adam", "from cnnkit.optimizers import Adam"),
        (
            "from keras.preprocessing.image import ImageDataGenerator",
            "from cnnkit.preprocessing.image import ImageDataGenerator",
        ),
        ("    from keras.layers import Dense", "    from cnnkit.layers import Dense"),
    ],
)
def test_each_row_of_the_table(keras_line: str, cnnkit_line: str):
    assert rewrite_imports(keras_line + "\n") == cnnkit_line + "\n"
    assert rewrite_imports(keras_line) == cnnkit_line


def test_only_import_lines_change():
    source = (
        "import numpy as np\n"
        "from keras.layers import (\n"
        "    Dense,\n"
        ")\n"
        "model = keras.Sequential()  # from keras import layers\n"
        'text = "import keras"\n'
    )
    rewritten = rewrite_imports(source)
    assert changed_lines(source, rewritten) == [
        ("from keras.layers import (", "from cnnkit.layers import (")
    ]


@pytest.mark.parametrize("line", ["import tensorflow as tf", "import keras.backend as K"])
def test_an_uncovered_keras_import_is_refused(line: str):
    with pytest.raises(ValueError, match=f"no cnnkit rewrite for import line: '{line}'"):
        rewrite_imports("import numpy as np\n" + line + "\n")


@pytest.mark.parametrize("path", sorted(PROGRAMS.glob("*.py")), ids=lambda p: p.stem)
def test_programs_differ_from_keras_only_in_import_lines(path):
    source = path.read_text()
    rewritten = rewrite_imports(source)
    changes = changed_lines(source, rewritten)
    assert changes, "a Keras program must import Keras"
    for old, new in changes:
        assert re.match(r"\s*(from|import) ", old) and re.match(r"\s*(from|import) ", new)
        assert "cnnkit" in new and "keras" in old
    remaining = [
        line
        for line in rewritten.splitlines()
        if re.match(r"\s*(from|import) .*(tensorflow|keras\.)", line)
    ]
    assert remaining == []
