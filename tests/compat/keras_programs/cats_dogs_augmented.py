"""A convnet from scratch for small cats-vs-dogs data, with augmentation and dropout, as in
"Deep Learning with Python" (Chollet, 5.2), then the book's training-curve plot.

Keras prints "Total params: 3,453,121". Folders: data/train/{cats,dogs}, data/validation/...
"""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from keras import layers, models, optimizers
from keras.preprocessing.image import ImageDataGenerator

model = models.Sequential()
model.add(layers.Conv2D(32, (3, 3), activation="relu", input_shape=(150, 150, 3)))
model.add(layers.MaxPooling2D((2, 2)))
model.add(layers.Conv2D(64, (3, 3), activation="relu"))
model.add(layers.MaxPooling2D((2, 2)))
model.add(layers.Conv2D(128, (3, 3), activation="relu"))
model.add(layers.MaxPooling2D((2, 2)))
model.add(layers.Conv2D(128, (3, 3), activation="relu"))
model.add(layers.MaxPooling2D((2, 2)))
model.add(layers.Flatten())
model.add(layers.Dropout(0.5))
model.add(layers.Dense(512, activation="relu"))
model.add(layers.Dense(1, activation="sigmoid"))
model.summary()
model.compile(
    loss="binary_crossentropy", optimizer=optimizers.RMSprop(learning_rate=1e-4), metrics=["acc"]
)

train_datagen = ImageDataGenerator(
    rescale=1.0 / 255,
    rotation_range=40,
    width_shift_range=0.2,
    height_shift_range=0.2,
    shear_range=0.2,
    zoom_range=0.2,
    horizontal_flip=True,
)
test_datagen = ImageDataGenerator(rescale=1.0 / 255)
train_generator = train_datagen.flow_from_directory(
    "data/train", target_size=(150, 150), batch_size=8, class_mode="binary"
)
validation_generator = test_datagen.flow_from_directory(
    "data/validation", target_size=(150, 150), batch_size=8, class_mode="binary"
)

history = model.fit(
    train_generator,
    steps_per_epoch=2,
    epochs=2,
    validation_data=validation_generator,
    validation_steps=1,
)
model.save("cats_and_dogs_small_2.h5")

acc = history.history["acc"]
val_acc = history.history["val_acc"]
loss = history.history["loss"]
val_loss = history.history["val_loss"]
epochs = range(1, len(acc) + 1)

plt.plot(epochs, acc, "bo", label="Training acc")
plt.plot(epochs, val_acc, "b", label="Validation acc")
plt.title("Training and validation accuracy")
plt.legend()
plt.figure()
plt.plot(epochs, loss, "bo", label="Training loss")
plt.plot(epochs, val_loss, "b", label="Validation loss")
plt.title("Training and validation loss")
plt.legend()
plt.savefig("loss.png")
plt.close("all")
