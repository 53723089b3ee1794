"""SendMessageToCare: questions, reminders and answers from a certificate's recipient to care."""
