from skillpm.entry import main

if __name__ == "__main__":
    main()
