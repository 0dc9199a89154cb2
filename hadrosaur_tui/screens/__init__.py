"""The screens of hadrosaur-tui."""
