"""Transfer learning as "Deep Learning with Python" (Chollet, 5.3) writes it: a frozen VGG16
convolutional base under a small densely connected classifier, for 150x150 cats vs dogs.

Keras prints "Total params: 16,812,353", "Trainable params: 2,097,665" once the base is
frozen, and the trainable weight tensors go from 30 to 4. (weights=None here: no download.)
"""

from keras import layers, models, optimizers
from keras.applications import VGG16

conv_base = VGG16(weights=None, include_top=False, input_shape=(150, 150, 3))
conv_base.summary()

model = models.Sequential()
model.add(conv_base)
model.add(layers.Flatten())
model.add(layers.Dense(256, activation="relu"))
model.add(layers.Dense(1, activation="sigmoid"))

print(
    "This is the number of trainable weights before freezing the conv base:",
    len(model.trainable_weights),
)
conv_base.trainable = False
print(
    "This is the number of trainable weights after freezing the conv base:",
    len(model.trainable_weights),
)
model.summary()

model.compile(
    loss="binary_crossentropy", optimizer=optimizers.RMSprop(learning_rate=2e-5), metrics=["acc"]
)
