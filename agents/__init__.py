"""Mesa agents of fedstake: trainer strategies and validator strategies."""

from agents.trainers import HonestTrainer, LazyTrainer, PoisoningTrainer, SybilTrainer, TrainerAgent
from agents.validators import CopyingValidator, HonestValidator, ValidatorAgent

#: Trainer classes in the order their identities are laid out in the network's arrays.
TRAINER_TYPES: tuple[type[TrainerAgent], ...] = (
    HonestTrainer,
    LazyTrainer,
    SybilTrainer,
    PoisoningTrainer,
)
#: Validator classes in the order they are laid out after the trainers.
VALIDATOR_TYPES: tuple[type[ValidatorAgent], ...] = (HonestValidator, CopyingValidator)

__all__ = [
    "TRAINER_TYPES",
    "VALIDATOR_TYPES",
    "CopyingValidator",
    "HonestTrainer",
    "HonestValidator",
    "LazyTrainer",
    "PoisoningTrainer",
    "SybilTrainer",
    "TrainerAgent",
    "ValidatorAgent",
]
