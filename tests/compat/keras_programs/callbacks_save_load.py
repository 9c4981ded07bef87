"""Course code for training with callbacks, then saving and reloading the model.

EarlyStopping + ModelCheckpoint("best.h5") during fit; model.save("m.h5") and
load_model afterwards. The CNN is LeNet-5 with 3x3 kernels (Keras: 60,074 params).
"""

import numpy as np
from tensorflow.keras.callbacks import EarlyStopping, ModelCheckpoint
from tensorflow.keras.datasets import mnist
from tensorflow.keras.layers import Conv2D, Dense, Flatten, MaxPooling2D
from tensorflow.keras.models import Sequential, load_model

(x_train, y_train), (x_test, y_test) = mnist.load_data()
x_train = x_train[..., np.newaxis] / 255.0
x_test = x_test[..., np.newaxis] / 255.0

model = Sequential(
    [
        Conv2D(6, 3, activation="relu", input_shape=(28, 28, 1)),
        MaxPooling2D(),
        Conv2D(16, 3, activation="relu"),
        MaxPooling2D(),
        Flatten(),
        Dense(120, activation="relu"),
        Dense(84, activation="relu"),
        Dense(10, activation="softmax"),
    ]
)
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])

callbacks = [
    EarlyStopping(monitor="val_loss", patience=2, restore_best_weights=True),
    ModelCheckpoint("best.h5", monitor="val_accuracy", save_best_only=True),
]
history = model.fit(
    x_train, y_train, epochs=3, batch_size=64, validation_split=0.25, callbacks=callbacks
)

model.save("m.h5")
reloaded = load_model("m.h5")
best = load_model("best.h5")
reloaded.summary()
expected = model.predict(x_test)
actual = reloaded.predict(x_test)
test_loss, test_acc = reloaded.evaluate(x_test, y_test)
